"""mpt's Python helpers: the example generator (`mpt.gen`, standard library
only), the ahead-of-time CPU loader (`mpt.aot`, needs numpy), gradient and
precision checks (`mpt.gradcheck`) and the demo (`mpt.demo`)."""
