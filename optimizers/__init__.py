"""Optimizers turn one model file into another and record lineage. They never measure."""
