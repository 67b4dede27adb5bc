"""Job kinds: how each is checked on the server and run inside the job's process.

Each kind is a module here with the same functions:

* on the server (through :mod:`jobext.kinds.server`): ``check(job, env)`` validates a job
  definition and returns its normalised ``target``; ``merge_args(default_args, args, field=)``
  gives a run its args; ``launch_options(job, env)`` gives the job's process what it needs
  beyond target and args (a connection URL, a notebook's path, ...);
* in the job's process (through :mod:`jobext.job.runner`): ``execute(spec, channel)`` runs the job
  and returns the runner's ``end`` message.

This package stays empty so that a job process imports only the kind it runs.
"""
