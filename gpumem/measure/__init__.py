"""Measure the memory PyTorch actually allocates, to validate the estimator.

Needs the optional extra ``gpumem[measure]`` (torch, transformers). Models are built from
catalog configs with random weights and ``attn_implementation="sdpa"``; on CPU they run on
fake tensors (:class:`~torch._subclasses.fake_tensor.FakeTensorMode`), so models of any size
are measured without memory, while PyTorch's
:class:`~torch.distributed._tools.mem_tracker.MemTracker` counts live tensor bytes by
category (parameters, gradients, optimizer state, activations, temporaries). On a GPU
(``--device cuda``) tensors are real and the CUDA caching allocator's peaks are recorded too.

Modules: :mod:`.build` (models from configs, fake mode), :mod:`.tracker` (phase peaks),
:mod:`.scenarios` (what is measured), :mod:`.run` (one scenario), :mod:`.cuda` (allocator
statistics), :mod:`.harness` (the grid and ``measurements.json``); ``python -m
gpumem.measure`` regenerates the file.
"""
