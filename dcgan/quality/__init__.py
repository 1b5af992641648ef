"""How good are the generator's images? Metrics for any run of any backend.

``python -m dcgan.quality RUN_DIR`` draws samples from a run's canonical
weights with any installed backend and compares them with the run's real
images; ``--eval-every`` in training measures the same during a run. Every
figure is printed beside its *noise floor*: the same metric for held-out real
images against the reference images, which says what "as good as real data"
scores at that sample size.

========== ================================================================
module     what
========== ================================================================
swd        sliced Wasserstein distance on Laplacian-pyramid patches
           (Karras et al. 2018), no pretrained network
classifier the reference classifier (numpy): its features and predictions
metrics    Fréchet distance and precision/recall in those features, class
           coverage and the KL divergence of the class histogram
reference  the real images, the cached classifier, the noise floor
evaluate   drawing samples from weights, a report, its table and JSON
========== ================================================================
"""

from dcgan.quality.evaluate import (
                                    QUALITY_FILE,
                                    draw_samples,
                                    evaluate_net,
                                    evaluate_weights,
                                    format_table,
                                    quality_line,
)
from dcgan.quality.reference import QualityReference, reference_classifier

__all__ = ["QUALITY_FILE", "QualityReference", "draw_samples", "evaluate_net", "evaluate_weights",
           "format_table", "quality_line", "reference_classifier"]
