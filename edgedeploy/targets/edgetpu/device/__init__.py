"""Running on an Edge TPU device: the libedgetpu delegate through the LiteRT interpreter, on a USB
Accelerator or a PCIe/M.2 module (``runtime.EdgeTpuRuntime``), device discovery and the runtime
library (the doctor's facts). Runs models compiled by edgetpu_compiler (``*_edgetpu.tflite``)."""
