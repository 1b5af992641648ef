"""dcgan: the Deep Convolutional GAN chapter of *Dive into Deep Learning*, four times.

``dcgan.torch``, ``dcgan.tensorflow``, ``dcgan.mxnet`` and ``dcgan.jax`` implement the same
networks and training loop, each in its framework's own idiom, behind the
contract written in :mod:`dcgan.backend`. Importing ``dcgan`` itself imports
no deep-learning framework.
"""

__version__ = "0.1.0"
