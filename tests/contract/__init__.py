"""The store contract: one suite that every Store implementation passes unchanged."""
