"""Lessons: content files (lessons/) read and checked, the checks and actions their steps use, a lab's snapshot.

Beside core.analysis in the layers: it reads core.model (settings, specs, runs) and core.words, and
nothing here imports TensorFlow or Streamlit.
"""
