"""The deploy contract of a converted model: the I/O sidecar (``sidecar``), class labels (``labels``) and
the runnable inference example written beside the model (``example``)."""
