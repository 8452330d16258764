"""Validation: the model against queueing theory, the CLV formula and the published
findings (``cxsim-validate``), and the calibration measurements behind them."""
