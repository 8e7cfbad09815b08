"""The primitives, one family a file: each op's forward and derivative side by side, and the
Tensor methods that call it. Everything not here is a composition of these."""
