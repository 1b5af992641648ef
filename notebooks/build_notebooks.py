"""Write the five notebooks of this folder from one description.

    python notebooks/build_notebooks.py

The framework notebooks follow the chapter section by section and
differ only where the framework does (imports, layout, the leaky ReLU
layer), like the backends themselves; writing them from one description
keeps them mirrored. The notebooks are committed without outputs
(``tests/test_notebooks.py`` checks that, and runs each of them).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent

PARAMETERS = '''\
# Parameters: the chapter's settings on the offline sprites. CI sets
# DCGAN_NOTEBOOK_QUICK=1 to run the notebook in about two minutes.
import os

QUICK = os.environ.get("DCGAN_NOTEBOOK_QUICK") == "1"
NUM_IMAGES = 128 if QUICK else 2000   # size of the synthetic sprites dataset
EPOCHS = 2 if QUICK else 20           # the chapter trains 20 epochs
BATCH_SIZE = 32 if QUICK else 256     # the chapter's batch size
QUALITY_SAMPLES = 64 if QUICK else 1000  # samples for the quality metrics after training
LR, LATENT_DIM, SEED = 0.005, 100, 0'''

FRAMEWORK = {
    "torch": {
        "title": "PyTorch",
        "layout": "NCHW",
        "leaky_relu": '''import torch
from torch import nn

alphas = [0, .2, .4, .6, .8, 1]
x = torch.arange(-2, 1, 0.1)
Y = [nn.LeakyReLU(alpha)(x).numpy() for alpha in alphas]''',
        "x": "torch.zeros", "device": "auto",
    },
    "tensorflow": {
        "title": "TensorFlow / Keras 3",
        "layout": "NHWC",
        "leaky_relu": '''import keras
import tensorflow as tf

alphas = [0, .2, .4, .6, .8, 1]
x = tf.range(-2, 1, 0.1)
Y = [keras.layers.LeakyReLU(negative_slope=alpha)(x).numpy() for alpha in alphas]''',
        "x": "tf.zeros", "device": "auto",
    },
    "mxnet": {
        "title": "MXNet Gluon",
        "layout": "NCHW",
        "leaky_relu": '''from mxnet import np as mnp
from mxnet.gluon import nn

alphas = [0, .2, .4, .6, .8, 1]
x = mnp.arange(-2, 1, 0.1)
Y = []
for alpha in alphas:
    layer = nn.LeakyReLU(alpha)
    layer.initialize()
    Y.append(layer(x).asnumpy())''',
        "x": "mnp.zeros", "device": "auto",
    },
    "jax": {
        "title": "JAX / Flax NNX",
        "layout": "NHWC",
        "leaky_relu": '''import jax
import jax.numpy as jnp

alphas = [0, .2, .4, .6, .8, 1]
x = jnp.arange(-2, 1, 0.1)
Y = [jax.nn.leaky_relu(x, alpha) for alpha in alphas]''',
        "x": "jnp.zeros", "device": "auto",
    },
}


def shape(nchw: tuple[int, int, int, int], layout: str) -> str:
    n, c, h, w = nchw
    return str((n, c, h, w) if layout == "NCHW" else (n, h, w, c))


def framework_notebook(name: str) -> nbformat.NotebookNode:
    f = FRAMEWORK[name]
    layout = f["layout"]
    zeros = f["x"]
    zeros_import = {"torch": "import torch", "tensorflow": "import tensorflow as tf",
                    "mxnet": "from mxnet import np as mnp",
                    "jax": "import jax.numpy as jnp"}[name]
    cells = [
        new_markdown_cell(f"""# Deep Convolutional GANs with {f['title']}

This notebook follows the DCGAN chapter of *Dive into Deep Learning*
(https://d2l.ai/chapter_generative-adversarial-networks/dcgan.html) section by
section, with the code of the `dcgan` package: `dcgan.{name}` holds the
chapter's blocks, nets and training loop, so the book, the code and this
notebook tell one story. Images here are {layout}{' (channels last, as Keras wants them)' if layout == 'NHWC' else ''}.

The sibling notebooks do the same with the other frameworks, and
`compare_frameworks.ipynb` puts them side by side."""),
        new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
        new_code_cell(f"""%matplotlib inline
# Import dcgan.{name} before the framework itself: it prepares the environment
# the framework needs (see its docstring).
from dcgan.{name} import (LAYOUT, D_block, G_block, as_numpy, as_tensor, forward, load_data,
                         net_D, net_G)
from dcgan.{name}.train import generate, resolve_device, set_seed, train

{zeros_import}
import matplotlib.pyplot as plt

from dcgan.config import Config
from dcgan.datasets import image_folder
from dcgan.plotting import LivePlot, show_images
from dcgan.shapes import conv_output_size, conv_transpose_output_size

set_seed(SEED)"""),
        new_markdown_cell("""## The dataset

The chapter trains on Pokemon sprites downloaded from the d2l data bucket
(`image_folder("pokemon")` fetches and verifies them when a network is there).
To run anywhere, this notebook uses the package's **synthetic** sprites: small
creatures drawn procedurally, 64x64 RGB, made once into a cache folder. Every
backend reads the same image folder with its own input pipeline; the images
are resized to 64x64 and scaled to [-1, 1] to match the generator's tanh
output."""),
        new_code_cell("""folder = image_folder("sprites", num_images=NUM_IMAGES)
data_iter = load_data(folder, BATCH_SIZE, num_workers=0, seed=SEED)
X, _ = next(iter(data_iter))
show_images(as_numpy(X)[:20], LAYOUT);"""),
        new_markdown_cell("""## The generator

The generator maps a noise vector of length 100 to an RGB image. Its basic
block is a transposed convolution followed by batch normalization and ReLU.
With kernel 4, stride 2 and padding 1 a transposed convolution doubles height
and width: the output side is `s (n - 1) + k - 2p`."""),
        new_code_cell(f"""x = {zeros}({shape((2, 3, 16, 16), layout)})
g_blk = G_block(20)
print(g_blk(x).shape, "expected side", conv_transpose_output_size(16, 4, 2, 1))"""),
        new_markdown_cell("""With stride 1 and no padding, a 1x1 input becomes 4x4: that is how the
first block turns the noise vector into a small image."""),
        new_code_cell(f"""x = {zeros}({shape((2, 3, 1, 1), layout)})
g_blk = G_block(20, strides=1, padding=0)
print(g_blk(x).shape, "expected side", conv_transpose_output_size(1, 4, 1, 0))"""),
        new_markdown_cell("""Four blocks grow the image to 32x32 while shrinking the channels from 512 to
64; a last transposed convolution produces the three colour channels at 64x64,
and tanh brings the values into (-1, 1). `dcgan.shapes` states every
intermediate shape, which the code of `net_G` repeats in its comments."""),
        new_code_cell(f"""generator = net_G(LATENT_DIM)
x = {zeros}({shape((1, 100, 1, 1), layout)})
print(generator(x).shape)"""),
        new_markdown_cell("""## The discriminator

The discriminator is a plain convolutional network, but with a *leaky* ReLU:
for negative inputs it keeps a slope alpha instead of returning zero, so that
gradients still flow through units that are switched off. With alpha = 0 it
is the ordinary ReLU; with alpha = 1 it is the identity."""),
        new_code_cell(f"""{f['leaky_relu']}
import numpy as np

xs = x.asnumpy() if hasattr(x, "asnumpy") else np.asarray(x)
for alpha, y in zip(alphas, Y):
    plt.plot(xs, np.asarray(y), label=f"alpha = {{alpha}}")
plt.xlabel("x"); plt.ylabel("y"); plt.legend();"""),
        new_markdown_cell("""The discriminator block is a convolution, batch normalization and a leaky
ReLU; with kernel 4, stride 2 and padding 1 it halves height and width:
`floor((n + 2p - k) / s) + 1`."""),
        new_code_cell(f"""x = {zeros}({shape((2, 3, 16, 16), layout)})
d_blk = D_block(20)
print(d_blk(x).shape, "expected side", conv_output_size(16, 4, 2, 1))"""),
        new_markdown_cell("""The discriminator mirrors the generator: four blocks take a 64x64 image down
to 4x4 with 512 channels, and a last 4x4 convolution gives one logit per
image."""),
        new_code_cell(f"""discriminator = net_D()
x = {zeros}({shape((1, 3, 64, 64), layout)})
print(discriminator(x).shape)"""),
        new_markdown_cell("""## Training

Both nets are trained with Adam (beta1 = 0.5, as the DCGAN paper recommends)
and binary cross-entropy on the discriminator's logits, alternating one
discriminator update and one generator update per batch. Every parameter
starts from N(0, 0.02), drawn with numpy so that every framework starts
from the same numbers. The figure below is redrawn after each epoch: the two
losses, and the 21 images the generator draws from the same fixed noise."""),
        new_code_cell(f"""set_seed(SEED)
config = Config(num_epochs=EPOCHS, batch_size=BATCH_SIZE, lr=LR, latent_dim=LATENT_DIM,
                seed=SEED, dataset="sprites")
net_D_, net_G_ = net_D(), net_G(LATENT_DIM)
history = train(net_D_, net_G_, data_iter, EPOCHS, LR, LATENT_DIM,
                resolve_device("{f['device']}"), config=config, run=LivePlot(LAYOUT, "{name}"))"""),
        new_markdown_cell("""How good are the samples? `dcgan.quality` compares generated images with
real ones: the sliced Wasserstein distance on image patches, and, in the
features of a small reference classifier, the Fréchet distance, precision
(are the samples realistic?), recall (is the variety there?) and how many of
the sprites' four body shapes the samples cover. Each figure is printed beside
what held-out real images score (the noise floor)."""),
        new_code_cell(f"""from dcgan.quality import evaluate_net, quality_line

report = evaluate_net("{name}", net_G_, folder, num=QUALITY_SAMPLES, seed=SEED)
print(quality_line(report["metrics"], report["noise_floor"]))"""),
        new_markdown_cell(f"""## Beyond the chapter: a walk through the latent space

The DCGAN paper (Radford et al. 2015, section 6.1) shows that walking from one
noise vector to another changes the image smoothly: the generator has learned
a space of images, not a list of memorised ones. Each row below walks from the
noise of one seed to that of the next, along the sphere (`slerp`, which keeps
the walk at the length the generator was trained on). The same command line:
`python -m dcgan.{name}.sample --weights RUN --interpolate 4 --steps 8`, and
`--nearest` shows each sample beside its nearest training image, `--arithmetic
'bug - blob + ghost'` the paper's vector arithmetic (README)."""),
        new_code_cell("""from dcgan.latent import interpolation_noise
from dcgan.shapes import array_in_layout

walks = interpolation_noise(SEED, 4, 8, LATENT_DIM)
Z = as_tensor(array_in_layout(walks.reshape(len(walks), -1, 1, 1), LAYOUT))
show_images(generate(net_G_, Z), LAYOUT, cols=8);"""),
        new_markdown_cell("""## Summary

* DCGAN's generator is a stack of transposed convolutions that grows a noise
  vector into an image; its discriminator is a convolutional classifier.
* Batch normalization (here in every block, the first discriminator block
  included, as in the chapter's code) and leaky ReLU in the discriminator
  keep the adversarial training stable.
* The frameworks compute the same thing from the same weights; where the
  book's tabs differ, `docs/framework-differences.md` says how and by how much.

## Exercises

1. *What happens with a standard ReLU instead of the leaky ReLU?* Train with
   `net_D(alpha=0)` (or `--alpha 0` on the command line). In our runs
   (`docs/exercises.md`: sprites, 5 epochs, same seed) the discriminator won
   sooner with a plain ReLU (loss_D 0.288 against 0.389, loss_G 4.95 against
   3.35 in the last epoch) and the samples lost their variety (pixel spread
   across the 21 samples 0.029 against 0.067): less gradient reaches the
   generator through a ReLU discriminator.
2. *Apply DCGAN to Fashion-MNIST and see which category works well and which
   does not.* `image_folder("fashion-mnist", classes=["Sneaker"])` downloads
   and converts the data once (or `--dataset fashion-mnist --classes Sneaker`
   on the command line). In our study (`docs/fashion_mnist_study.py`, one
   2-epoch run per category) trousers, ankle boots and sneakers came out
   recognisable, sandals only as fragments of straps, and shirts, pullovers
   and coats, which differ mainly in texture, as one blurred shape; the final
   losses did not rank the categories."""),
    ]
    return new_notebook(cells=cells, metadata=_metadata())


def compare_notebook() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("""# The frameworks side by side

The same DCGAN in PyTorch, TensorFlow and MXNet, started from the same
canonical weights, checked for parity, trained on the same data, and compared:
losses overlaid and the sample grids from the same fixed noise. Backends whose
framework is not installed are left out with the reason."""),
        new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
        new_code_cell("""%matplotlib inline
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from dcgan import backend as backends
from dcgan.config import Config
from dcgan.datasets import image_folder
from dcgan.loop import fixed_noise
from dcgan.plotting import display_images, image_grid, plot_losses
from dcgan.shapes import array_to_nchw
from dcgan.weights import init_weights, save_weights

available = {}
for name in backends.BACKENDS:  # PyTorch first: see dcgan/tensorflow/__init__.py
    reason = backends.missing_reason(name)
    if reason:
        print(f"{name}: left out ({reason})")
    else:
        available[name] = backends.load(name)
print("backends:", ", ".join(available))"""),
        new_markdown_cell("""## The same initial weights

`dcgan.weights.init_weights` draws the chapter's N(0, 0.02) weights with numpy;
every backend loads them through its `from_canonical`, converting the layout
where its framework differs (Keras keeps kernels as (kh, kw, in, out))."""),
        new_code_cell("""weights = init_weights(SEED, LATENT_DIM)
init_file = Path(tempfile.mkdtemp()) / "init.safetensors"
save_weights(init_file, weights)
{net: len(arrays) for net, arrays in weights.items()}"""),
        new_markdown_cell("""## Parity

From those weights, each backend's generator draws images from the same noise.
The largest difference to the first backend's output, on a scale of [-1, 1]:"""),
        new_code_cell("""outputs = {}
for name, b in available.items():
    G = b.net_G(LATENT_DIM)
    b.from_canonical(G, weights["net_G"])
    Z = b.as_tensor(fixed_noise(SEED, LATENT_DIM, b.LAYOUT))
    outputs[name] = array_to_nchw(b.as_numpy(b.forward(G, Z, training=True)), b.LAYOUT)
first = next(iter(outputs))
for name, out in outputs.items():
    print(f"{name:10s} max |difference| to {first}: {np.abs(out - outputs[first]).max():.1e}")"""),
        new_markdown_cell("""## Training each backend on the same data

Each backend trains from the same initial weights with the same
hyperparameters on the same image folder. Runs do not stay identical: the
frameworks draw their own noise for each step, and float32 rounding grows
apart in a GAN (see `docs/framework-differences.md`); they should behave
alike."""),
        new_code_cell("""folder = image_folder("sprites", num_images=NUM_IMAGES)
histories, grids, nets_G = {}, {}, {}
for name, b in available.items():
    b.set_seed(SEED)
    net_D, net_G = b.net_D(), b.net_G(LATENT_DIM)
    config = Config(num_epochs=EPOCHS, batch_size=BATCH_SIZE, lr=LR, latent_dim=LATENT_DIM,
                    seed=SEED, dataset="sprites", init_from=str(init_file))
    data_iter = b.load_data(folder, BATCH_SIZE, num_workers=0, seed=SEED)
    histories[name] = b.train(net_D, net_G, data_iter, EPOCHS, LR, LATENT_DIM,
                              b.resolve_device("cpu"), config=config)
    Z = b.as_tensor(fixed_noise(SEED, LATENT_DIM, b.LAYOUT))
    grids[name] = image_grid(display_images(b.generate(net_G, Z), b.LAYOUT))
    nets_G[name] = net_G"""),
        new_code_cell("""fig, ax = plt.subplots(figsize=(7, 4))
for name, history in histories.items():
    plot_losses(history, ax, label_suffix=f" ({name})")
ax.set_title("losses of the backends");"""),
        new_markdown_cell("""Did they learn the same thing? The quality metrics (`dcgan.quality`)
of each backend's generator, beside what held-out real images score:"""),
        new_code_cell("""from dcgan.quality import evaluate_net, quality_line

for name, b in available.items():
    report = evaluate_net(name, nets_G[name], folder, num=QUALITY_SAMPLES, seed=SEED)
    print(f"{name:10s}", quality_line(report["metrics"], report["noise_floor"]))"""),
        new_code_cell("""fig, axes = plt.subplots(len(grids), 1, figsize=(8, 3.2 * len(grids)), squeeze=False)
for ax, (name, grid) in zip(axes[:, 0], grids.items()):
    ax.imshow(grid)
    ax.set_title(name)
    ax.set_axis_off()"""),
    ]
    return new_notebook(cells=cells, metadata=_metadata())


def _metadata() -> dict:
    return {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"}}


def write(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Write ``notebook`` with cell ids numbered in order, so that rebuilding an
    unchanged notebook leaves its file unchanged (nbformat's ids are random)."""
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{number:02d}"
    nbformat.write(notebook, path)


def main() -> None:
    for name in FRAMEWORK:
        write(framework_notebook(name), HERE / f"dcgan_{name}.ipynb")
    write(compare_notebook(), HERE / "compare_frameworks.ipynb")


if __name__ == "__main__":
    main()
