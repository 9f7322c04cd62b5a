"""Where work runs: in this process (the default) or on a Ray cluster; never what it computes."""
