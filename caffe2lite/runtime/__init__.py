"""Running nets: NetDef -> compiled plan -> run (``net``), PlanDefs (``plan``) and
the workspace of named blobs (``workspace``)."""
