"""The server layer: what one server process holds for everybody.

- board: the boards of each lab's training and sweep (`JOBS`, `SWEEPS`), `stop_lab_jobs`.
- warmup: the bundled model loaded in the background; collector: the garbage collector's tuning;
  housekeeper: the database's periodic clean-up; showcase: the home page's pictures;
  new_labs: how many new labs a session or an address may start per hour.

The top of core: may import every layer below. Import the modules themselves (no re-exports: the
home page imports some of them and must stay free of TensorFlow).
"""
