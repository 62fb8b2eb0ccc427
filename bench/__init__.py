"""`make bench`: the project's benchmarks. Each module here with a ``run(args)`` function is one suite."""
