"""Fixtures for the drawing tests: the same test under each Graphviz renderer."""
import shutil

import pytest

from gradspace.autograd.viz import rendering

real_which = shutil.which


@pytest.fixture(params=["dot", "graphviz-pure"])
def renderer(request, monkeypatch):
    """Run the test once with the system `dot` (skipped where it is not installed) and once
    with graphviz-pure (what `pip install gradspace` brings): layouts and text differ in
    small ways between the two, and a drawing must come out right with either."""
    if request.param == "dot":
        if real_which("dot") is None:
            pytest.skip("the system Graphviz `dot` is not installed")
    else:
        monkeypatch.setattr(rendering.shutil, "which",
                            lambda name, **kw: None if name == "dot" else real_which(name, **kw))
    assert rendering.find_renderer()[0] == request.param
    return request.param
