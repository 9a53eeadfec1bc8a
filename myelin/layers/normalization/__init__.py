"""Normalization layers, one file per layer as in Keras 3 (``keras/src/layers/normalization/``)."""
