"""meshops: Istio service-mesh manifests from typed environment files, and drift detection.

Data flows one way: config -> constructs -> charts -> render -> dist.
"""

import os

# jsii prints a large end-of-life banner on every start under Node 20, which is what this
# machine and CI have. The value lists the Node majors to silence (jsii's own convention).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

__version__ = "0.1.0"
