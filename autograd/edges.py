"""What a graph node keeps once backward has freed it: the graph's structure, no array.

`release_node(fn)` (Function.release, which the engine calls unless retain_graph) drops the
node's inputs and the slots its class names in `saved` (ids, masks, buffers) and leaves
`fn.edges`, a light record of where each input came from, like PyTorch's next_functions: per
input, the leaf Tensor itself (leaves outlive a graph anyway), or for an intermediate the tuple
(its grad_fn, name, shape, dtype, creation number), without its array. So after backward the
graph holds no intermediate array, a second backward still fails (the engine finds `inputs`
gone), and the drawings can still read the whole graph (autograd.viz.graph.node_inputs). The
engine never reads `edges`.

`Function.calls` is the other thing a node carries for the drawings (autograd.scopes).
"""


def release_node(fn):
    """Function.release: drop fn's inputs and saved arrays, keep fn.edges (see above)."""
    edges = []                  # a plain loop: cheaper than a comprehension, once per node
    for t in fn.inputs:
        edges.append(t if t.grad_fn is None else
                     (t.grad_fn, t.name, t.data.shape, t.data.dtype, t._seq))
    fn.edges, fn.inputs = edges, None
    for name in fn.saved:                            # what backward read besides the inputs
        setattr(fn, name, None)
