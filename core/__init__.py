"""Digit Lab's core: everything but the pages, in layers. Never imports Streamlit, `ui` or `pages`.

From top to bottom (a layer imports only the layers below it; `lint-imports` checks it with the
contracts in pyproject.toml):

- core.server: what a server process holds for everybody: the boards of jobs, warm-up, the
  collector, the housekeeper, the home page's pictures, the new-lab counter.
- core.storage: the database (engine, schema, the `Store`), lab keys, process ownership, and the
  sink that keeps a training's runs.
- core.training: jobs (local or on Ray), their line for slots, callbacks, fine-tuning, sweeps.
- core.analysis: evaluation, the learning history, explanations.
- core.model: the spec and its settings, optimizers, building networks, model files, runs.
- core.data: the dataset registry, drawings, the visitor's own digits.
- core.figures and core.limits: the bottom (plotly figures; the server's bounds). Neither imports
  any other part of core.

TensorFlow is imported only by the modules that build, train or run a network (core.model.network,
core.training.local, ...) and inside functions elsewhere: the home page must stay light
(tests/test_light_imports.py).
"""
