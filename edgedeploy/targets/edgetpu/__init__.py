"""The Google Coral Edge TPU target: operator rules (data), mapping predictor, compiler log parser, compile stage."""
