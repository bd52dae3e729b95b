"""Deployment targets: each package holds one accelerator's rules (as data), predictor and report."""
