"""``edgedeploy limits``: the largest input size and width that still map fully, stay on chip and compile.

- ``plan.py``: the grid (``--alphas`` x ``--resolutions``), parsed and checked
- ``source.py``: the model (a built-in, exported to ONNX once per alpha, or an ONNX file)
- ``onnx_shapes.py`` + ``forecast.py``: the int8 TFLite graph the converter would write, from shapes
- ``scan.py``: the fast analysis of every point through the target's ``limits`` capability (the registry)
- ``cliffs.py``: the limit per alpha and where each concern gets worse
- ``confirm.py``: real conversions of the limit and the first point past it (or of every point)
- ``result.py``, ``plot.py``, ``run.py``: the report, the PNG, and the whole command
"""
