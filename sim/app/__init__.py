"""The what-if app (``cxsim-app``): a Solara page over ``sim.app.engine``."""
