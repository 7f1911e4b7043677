"""The app's words for people: every setting, metric and term in everyday words, the technical name after.

One table for the whole app: the Train page's labels and help (`core.model.settings` reads them by
the setting's key), the metrics on Evaluate and in the runs table, and the glossary that the
lessons link to. Translations read the same entries. A widget's label is `words_for(key).label`;
a test walks the pages' widgets and fails on one whose words are not here.

Writing them: say what it does in words a 14-year-old uses, then the technical name in brackets;
the help says why one would change it, in one or two short sentences.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Words:
    """What people read for one thing: its label on screen, and one or two sentences of help."""

    label: str  # plain words first, the technical name after: "Passes through the data (epochs)"
    help: str  # what it means, and why one would change it
    term: str = ""  # the glossary term it explains ("epoch"), when there is one


# Numbers the app measures, by Keras' metric names (and the test set's, which Keras does not name).
METRIC_WORDS: dict[str, Words] = {
    "accuracy": Words("Right on its training images (accuracy)",
                      "The share of the images it learns from that it reads right.", "accuracy"),
    "val_accuracy": Words("Right on images it did not learn from (validation accuracy)",
                          "Checked after every pass on images kept aside, to see how well it does on new ones.",
                          "validation"),
    "test_accuracy": Words("Right on new images (test accuracy)",
                           "The share of the test images, never used in training, that it reads right. "
                           "This is the fairest score.", "test set"),
    "loss": Words("How wrong it is on its training images (loss)",
                  "Lower is better. Training changes the network to make this number smaller.", "loss"),
    "val_loss": Words("How wrong it is on images it did not learn from (validation loss)",
                      "Lower is better. When it starts to rise while the training loss falls, "
                      "the network is learning its images by heart.", "overfitting"),
    "test_loss": Words("How wrong it is on new images (test loss)",
                       "Lower is better. It also counts how sure the network was when it was wrong.", "loss"),
    "precision": Words("When it says this digit, how often it is right (precision)",
                       "Out of all the images it read as this digit, the share that really were.", "precision"),
    "recall": Words("Of this digit's images, how many it finds (recall)",
                    "Out of all the images of this digit, the share it read right.", "recall"),
    "f1": Words("Both together (F1 score)",
                "One number that is high only when precision and recall are both high.", "F1 score"),
    "support": Words("Images of this digit (support)", "How many test images show this digit.", "test set"),
}

# The terms the labels, the help and the lessons use, each in a sentence or two.
GLOSSARY: dict[str, str] = {
    "accuracy": "The share of images the network reads right: 0.9 or 90% means 9 in 10.",
    "activation": "The rule a neuron uses to turn what it adds up into its answer, such as ReLU or sigmoid.",
    "batch": "A small group of images the network looks at before it changes itself a little. "
             "A training pass goes through all the images, one batch after another.",
    "convolution": "A small window that slides over the picture and looks for one pattern, such as an edge "
                   "or a curve, everywhere in it. A CNN is built from such windows.",
    "dropout": "While training, some neurons are switched off at random, so the network cannot rely on "
               "any single one. It often helps it do better on new images.",
    "dataset": "A set of pictures, each with its right answer, that the network learns from and is tested on.",
    "early stopping": "Ending the training when the network has stopped getting better on the images kept aside.",
    "epoch": "One pass through all the training images. Training usually takes several passes.",
    "learning rate": "How big a step the network takes each time it changes itself. Too big and it jumps "
                     "around, too small and it learns slowly.",
    "loss": "A number that says how wrong the network is. Training tries to make it smaller.",
    "momentum": "Each step of learning keeps some of the step before, so it rolls on past small bumps.",
    "neuron": "A tiny unit that adds up what comes in, each part with its own weight, and passes on a number.",
    "optimizer": "The rule that decides how the network changes itself after each batch. "
                 "SGD, Adam and RMSprop are optimizers.",
    "overfitting": "When the network learns its training images by heart instead of what digits look like: "
                   "it gets better on them and worse on new ones.",
    "random seed": "A number that fixes the chance in training, so that the same settings give the same network.",
    "softmax": "The last step of the network: it turns its scores into chances for each answer that add up to 100%.",
    "test set": "Images kept apart until the end, never used in training. The score on them is the fairest one.",
    "sweep": "A few trainings that differ in one setting only, so you can see what that setting does.",
    "validation": "Images kept aside during training to check, after each pass, how well the network does "
                  "on images it did not learn from.",
    "weight": "A number inside the network that training changes. A network is its weights.",
}


def metric_words(metric: str) -> Words:
    """The words for one of Keras' metric names ("val_accuracy") or "test_accuracy"; KeyError names it."""
    try:
        return METRIC_WORDS[metric]
    except KeyError:
        raise KeyError(f"no words for the metric {metric!r}: add them to core.words.METRIC_WORDS") from None


# The Train page's settings, by the key of core.model.settings.SETTINGS (its widget's key and link parameter).
SETTING_WORDS: dict[str, Words] = {
    "dataset": Words("Images to learn from (dataset)",
                     "Which set of pictures the network learns to read. Digits is small and quick; "
                     "MNIST is the classic set of handwritten digits.", "dataset"),
    "kind": Words("Kind of network",
                  "Dense layers look at every pixel at once. A small CNN looks for small shapes first, "
                  "which is usually better with pictures.", "convolution"),
    "filters": Words("Shape finders in each block (conv filters)",
                     "One number per block, like 32, 64. Each block looks for that many small shapes, "
                     "then shrinks the picture to half its size.", "convolution"),
    "kernel": Words("Size of the window that looks for shapes (kernel size)",
                    "How many pixels wide each shape finder looks. 3 is the usual choice.", "convolution"),
    "hidden": Words("Neurons in each layer (hidden layers)",
                    "One number per layer, like 512, 512. More neurons can learn more, but train slower. "
                    "Leave it empty for no layer in between.", "neuron"),
    "activation": Words("How each neuron answers (activation)",
                        "The rule that turns what a neuron adds up into its answer. ReLU usually learns fastest.",
                        "activation"),
    "dropout": Words("Switch off neurons at random (dropout)",
                     "Turns off this share of neurons at random while training, so the network cannot lean "
                     "on just a few. Try 0.2 when it does much better on its own images than on new ones.",
                     "dropout"),
    "l2": Words("Keep the weights small (L2 penalty)",
                "A small push that keeps every weight small. It can help the network do better on new images.",
                "weight"),
    "optimizer": Words("How it learns from mistakes (optimizer)",
                       "The rule it uses to change itself after each batch. Adam is a good first choice.",
                       "optimizer"),
    "lr": Words("How big each step is (learning rate)",
                "How much the network changes after each batch. Too big and it jumps around; "
                "too small and it learns slowly.", "learning rate"),
    "momentum": Words("Keep going the same way (momentum)",
                      "Each step also keeps some of the step before it, like a ball rolling downhill. "
                      "It often makes learning faster.", "momentum"),
    "batch": Words("Images per step (batch size)",
                   "How many images it looks at before it changes itself. Small batches learn in more steps; "
                   "big ones are quicker per pass.", "batch"),
    "epochs": Words("Passes through the data (epochs)",
                    "How many times it looks at all the training images. More passes can help, "
                    "until it starts to learn them by heart.", "epoch"),
    "patience": Words("Stop when it stops getting better (early stopping)",
                      "Stop after this many passes with no gain on the images kept aside, and keep the best "
                      "network. 0 means never stop early.", "early stopping"),
    "limit": Words("How many training images to use (0 = all)",
                   "Fewer images train faster, but the network learns less. 0 uses them all.", "dataset"),
    "seed": Words("Dice roll (random seed)",
                  "Training uses chance. The same number gives the same result again; "
                  "another number gives a slightly different one.", "random seed"),
}

# The classic recipes of the Train page, by the stable id that core.model.spec.PRESETS keys them with.
RECIPE_WORDS: dict[str, Words] = {
    "digits_tutorial": Words("The first network of the classic tutorial: 64 pixels, 15 neurons, 10 answers",
                             "A tiny network on the small 8x8 digits. It trains in seconds."),
    "mnist_softmax": Words("The simplest network: every pixel straight to 10 answers (MNIST)",
                           "No layer in between. It already reads about 9 in 10 digits right."),
    "mnist_dense": Words("Two big layers of 512 neurons, with dropout (MNIST)",
                         "A strong dense network. It reads about 98 in 100 digits right."),
    "mnist_cnn": Words("A small CNN that looks for shapes (MNIST)",
                       "Two blocks of shape finders, then the answer. Often the best of these recipes."),
}

# The Train page's other widgets, buttons and modes.
TRAIN_WORDS: dict[str, Words] = {
    "train_mode": Words("What do you want to do?",
                        "Train one network, compare a few that differ in one setting, "
                        "or teach a network your own handwriting."),
    "mode_train": Words("Train a network", "Train one network and watch it learn."),
    "mode_compare": Words("Compare (a sweep)",
                          "Train a few networks that differ in one setting, side by side."),
    "mode_fine_tune": Words("Fine-tune on my digits",
                            "Teach a network your own handwriting, from the digits you drew."),
    "preset": Words("Start from a classic recipe",
                    "Choosing one fills in every setting below at once. Undo brings back your own."),
    "undo_recipe": Words("Undo", "Brings back the settings you had before you chose the recipe."),
    "start_training": Words("Start training", "Trains a network with the settings on the left."),
    "stop_training": Words("Stop training", "Stops now and keeps the network as it is so far."),
    "sweep_setting": Words("Setting to change", "The one setting that differs between the networks."),
    "sweep_values": Words("Values to compare",
                          "One network is trained for each value. Lists of numbers, like 128, 64, "
                          "are separated by ';'."),
    "start_sweep": Words("Start sweep", "Trains one network for each value, with every other setting the same."),
    "stop_sweep": Words("Stop sweep",
                        "Stops every network: waiting ones never start, running ones keep what they learned."),
    "sweep_member": Words("Network to use as the current model",
                          "Evaluate and Draw use the current model."),
    "make_current": Words("Make it current", "Evaluate and Draw will use this network."),
    "is_current": Words("Current model", "Evaluate and Draw use this network."),
}

# The fine-tuning part of the Train page and the My digits page.
MY_DIGITS_WORDS: dict[str, Words] = {
    "fine_tune_model": Words("Network to fine-tune", "A copy of it learns your handwriting; it stays as it is."),
    "fine_tune": Words("Fine-tune on my digits",
                       "A copy of the network learns from your digits, with some of its old images mixed in "
                       "so that it does not forget them."),
    "digits_upload": Words("Choose a file of digits (.npz)",
                           "A file you downloaded from this page, or MNIST's own mnist.npz. "
                           "Each image is a white digit on black, with its right answer."),
    "digits_shown": Words("Digit", "Which of your digits to look at."),
    "digits_model_view": Words("Show them as the network sees them",
                               "Off: your drawing as kept. On: the small 28x28 picture a network reads, "
                               "made as on the Draw page."),
    "digits_page": Words("Page", "Your digits, a page at a time, newest first."),
    "digits_pick": Words("Delete", "Tick the digits to delete, then press the button below them."),
    "digits_delete_ticked": Words("Delete the ticked digits", "Deletes the digits you ticked, for good."),
    "digits_download": Words("Download as .npz",
                             "A file with all your digits and their answers. You can add it here again, "
                             "or read it in Python with numpy.load."),
    "digits_delete_all": Words("Delete all my digits", "Deletes every digit you added, for good."),
}

# Every entry above, by key: what `words_for` reads and the widget-walking test checks against.
WORDS: dict[str, Words] = {**SETTING_WORDS, **{f"recipe_{k}": w for k, w in RECIPE_WORDS.items()},
                           **TRAIN_WORDS, **MY_DIGITS_WORDS, **METRIC_WORDS}


def words_for(key: str) -> Words:
    """The words of one key of WORDS (a setting, a widget, a metric); KeyError names the key."""
    try:
        return WORDS[key]
    except KeyError:
        raise KeyError(f"no words for {key!r}: add them to a table in core.words") from None
