"""Reporting a study from its result tables: confidence intervals, figures, ``report.md``
(``cxsim-report``) and the headline study (``cxsim-headline``)."""
