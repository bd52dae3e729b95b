"""Conversion as an explicit, ordered list of stages, one module per stage (``<src>_to_<dst>.py``).

Each stage module exposes ``NAME``, ``REQUIRES`` and ``ENSURES`` (artifact types, see ``artifacts``)
and ``run(artifact, context) -> artifact``. ``pipeline`` chains them and times each one.
"""
