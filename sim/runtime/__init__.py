"""Running the parties: the process manager, the servers that host each app, and the
child-process entry point. The only layer that imports every app."""
