"""Deterministic simulation of many scheduler replicas under faults.

The real :class:`~scheduler.engine.Engine` (its dispatcher, housekeeping and
slot planner) runs as several replicas in one thread, on the memory store or
the SQLAlchemy store on a SQLite file, each replica with its own drifting
clock.  A seed draws a workload (jobs added, edited, paused, resumed, removed;
one-off defers; DST changes) and a fault plan (crashes at store calls, store
outages, lost, late, doubled and hung executions, paused VMs); the simulation
interleaves everything from that seed alone, so a seed replays exactly.
Invariants are checked against the store and the executors' own log.

* :mod:`.plan`: the fault plan and the workload a seed draws;
* :mod:`.faulty`: the store wrapper that injects the store faults;
* :mod:`.executors`: simulated executors (in-process, and remote workers);
* :mod:`.world`: the event loop that runs it all;
* :mod:`.invariants`: what must hold;
* :mod:`.shrink`: dropping faults while a violation stays;
* :mod:`.canaries`: deliberately broken stores the simulation must catch;
* ``python -m tests.simulation``: the command line (``--seed N`` replays one).
"""
