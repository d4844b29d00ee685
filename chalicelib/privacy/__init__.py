"""Privacy: people's data rights (export, erasure), consent records, retention, suppression."""
