"""Apps: jobs deployed from code (``@jobext.job`` functions of a module, a package or a folder,
and notebooks a folder marks in their metadata).

:mod:`~jobext.apps.discover` runs in a child process and describes the code;
:mod:`~jobext.apps.deployer` checks that description and syncs the app's jobs and schedules in
one transaction; :mod:`~jobext.apps.handlers` is the REST face.
"""
