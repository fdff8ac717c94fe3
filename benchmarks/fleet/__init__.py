"""One benchmark matrix across many machines on Ray: `bench node start` makes a machine a node that advertises its
hardware profile, `bench run --cluster ADDRESS` sends each measurement to a node of the run's profile.

Ray is an optional extra (pip install "edgebench[fleet]") and is imported only inside the functions that need it.
"""
