"""The demo's app: its ``tasks`` module holds the jobs; its commands set the demo up."""
