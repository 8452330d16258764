"""Sensitivity analysis, scenario discovery and policy optimisation over Hydra sweeps."""
