"""An installed app whose ``tasks`` module the scheduler discovers."""
