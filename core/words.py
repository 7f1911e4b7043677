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

from core.i18n import N_


@dataclass(frozen=True)
class Words:
    """What people read for one thing: its label on screen, and one or two sentences of help."""

    label: str  # plain words first, the technical name after: "Passes through the data (epochs)"
    help: str  # what it means, and why one would change it
    term: str = ""  # the glossary term it explains ("epoch"), when there is one


# Numbers the app measures, by Keras' metric names (and the test set's, which Keras does not name).
METRIC_WORDS: dict[str, Words] = {
    "accuracy": Words(N_("Right on its training images (accuracy)"),
                      N_("The share of the images it learns from that it reads right."), "accuracy"),
    "val_accuracy": Words(N_("Right on images it did not learn from (validation accuracy)"),
                          N_("Checked after every pass on images kept aside, to see how well it does on new ones."),
                          "validation"),
    "test_accuracy": Words(N_("Right on new images (test accuracy)"),
                           N_("The share of the test images, never used in training, that it reads right. "
                           "This is the fairest score."), "test set"),
    "loss": Words(N_("How wrong it is on its training images (loss)"),
                  N_("Lower is better. Training changes the network to make this number smaller."), "loss"),
    "val_loss": Words(N_("How wrong it is on images it did not learn from (validation loss)"),
                      N_("Lower is better. When it starts to rise while the training loss falls, "
                      "the network is learning its images by heart."), "overfitting"),
    "test_loss": Words(N_("How wrong it is on new images (test loss)"),
                       N_("Lower is better. It also counts how sure the network was when it was wrong."), "loss"),
    "precision": Words(N_("When it says this digit, how often it is right (precision)"),
                       N_("Out of all the images it read as this digit, the share that really were."), "precision"),
    "recall": Words(N_("Of this digit's images, how many it finds (recall)"),
                    N_("Out of all the images of this digit, the share it read right."), "recall"),
    "f1": Words(N_("Both together (F1 score)"),
                N_("One number that is high only when precision and recall are both high."), "F1 score"),
    "support": Words(N_("Images of this digit (support)"), N_("How many test images show this digit."), "test set"),
}

# The terms the labels, the help and the lessons use, each in a sentence or two.
GLOSSARY: dict[str, str] = {
    N_("accuracy"): N_("The share of images the network reads right: 0.9 or 90% means 9 in 10."),
    N_("activation"): N_("The rule a neuron uses to turn what it adds up into its answer, such as ReLU or sigmoid."),
    N_("batch"): N_("A small group of images the network looks at before it changes itself a little. "
             "A training pass goes through all the images, one batch after another."),
    N_("convolution"): N_("A small window that slides over the picture and looks for one pattern, such as an edge "
                   "or a curve, everywhere in it. A CNN is built from such windows."),
    N_("dropout"): N_("While training, some neurons are switched off at random, so the network cannot rely on "
               "any single one. It often helps it do better on new images."),
    N_("dataset"): N_("A set of pictures, each with its right answer, that the network learns from and is tested on."),
    N_("early stopping"):
        N_("Ending the training when the network has stopped getting better on the images kept aside."),
    N_("epoch"): N_("One pass through all the training images. Training usually takes several passes."),
    N_("learning rate"): N_("How big a step the network takes each time it changes itself. Too big and it jumps "
                     "around, too small and it learns slowly."),
    N_("loss"): N_("A number that says how wrong the network is. Training tries to make it smaller."),
    N_("momentum"): N_("Each step of learning keeps some of the step before, so it rolls on past small bumps."),
    N_("neuron"): N_("A tiny unit that adds up what comes in, each part with its own weight, and passes on a number."),
    N_("optimizer"): N_("The rule that decides how the network changes itself after each batch. "
                 "SGD, Adam and RMSprop are optimizers."),
    N_("overfitting"): N_("When the network learns its training images by heart instead of what digits look like: "
                   "it gets better on them and worse on new ones."),
    N_("random seed"):
        N_("A number that fixes the chance in training, so that the same settings give the same network."),
    N_("softmax"):
        N_("The last step of the network: it turns its scores into chances for each answer that add up to 100%."),
    N_("test set"):
        N_("Images kept apart until the end, never used in training. The score on them is the fairest one."),
    N_("sweep"): N_("A few trainings that differ in one setting only, so you can see what that setting does."),
    N_("validation"): N_("Images kept aside during training to check, after each pass, how well the network does "
                  "on images it did not learn from."),
    N_("weight"): N_("A number inside the network that training changes. A network is its weights."),
}


def metric_words(metric: str) -> Words:
    """The words for one of Keras' metric names ("val_accuracy") or "test_accuracy"; KeyError names it."""
    try:
        return METRIC_WORDS[metric]
    except KeyError:
        raise KeyError(f"no words for the metric {metric!r}: add them to core.words.METRIC_WORDS") from None


# The lessons' terms (lessons/*.toml name them; the Learn page's glossary lists them all). Added to
# GLOSSARY below; a term already defined above keeps its words.
LESSON_TERMS: dict[str, str] = {
    N_("CNN"):
        N_("A network made of convolutions: small windows that look for the same pattern everywhere in a picture "
           "(convolutional neural network)."),
    N_("confusion matrix"): N_("A square of numbers: each row is the true digit, each column what the network read. "
                        "The numbers off the diagonal are its mistakes."),
    N_("early stopping"): N_("Training stops by itself when the score on the validation images has not improved "
                      "for a few passes, and keeps the best network it saw."),
    N_("feature map"): N_("What one filter of a CNN finds in a picture: a small image that is bright where "
                   "its pattern is."),
    N_("filter"): N_("One small window of a CNN, with its own weights: it lights up where its pattern, "
              "such as an edge, is in the picture."),
    N_("fine-tuning"): N_("Training a network that has already learned a bit more, on new pictures (yours), "
                   "so that it gets better at them."),
    N_("hidden layer"): N_("A row of neurons between the picture and the answer. Each can learn a part of a digit, "
                    "like a loop or a line."),
    N_("sweep"): N_("A comparison: the same network trained a few times, with only one setting changed, "
             "so you can see what that setting does."),
    N_("weight"): N_("A number inside the network that says how much one input counts. Training changes the weights."),
}
for _term, _meaning in LESSON_TERMS.items():
    GLOSSARY.setdefault(_term, _meaning)
# The Draw page's widgets (pages/draw.py, ui/drawing_box.py, ui/my_digits.py's "Add to my digits"), by their role.
DRAW_WORDS: dict[str, Words] = {
    "source": Words(N_("How to give the network a digit"),
                    N_("Draw one with the mouse or a finger, send a photo of one written on paper, or pick one "
                    "from the test images if drawing is hard for you.")),
    "clear": Words(N_("Clear"), N_("Empty the box to draw another digit.")),
    "explain_class": Words(N_("Class to explain"),
                           N_("Choose another digit to see what counts for it and against it: "
                              "what would make it a 7?")),
    "inside": Words(N_("See inside the network"),
                    N_("See what the first layer looks for, and what each part of the network makes of your digit.")),
    "photo_upload": Words(N_("A photo of one digit on paper"),
                          N_("Write one digit large and dark on plain paper and take a photo from above. "
                          "PNG or JPEG pictures are read.")),
    "camera": Words(N_("Use the camera"),
                    N_("Take the photo here with your device's camera. Your browser asks first.")),
    "camera_input": Words(N_("Take a photo of one digit on paper"),
                          N_("Hold the paper flat, fill much of the picture with the digit, "
                             "and avoid strong shadows.")),
    "test_digit": Words(N_("The digit to show"),
                        N_("The network reads one of its test images of this digit: images it never learned from.")),
    "another": Words(N_("Another one"), N_("Show another test image of the same digit.")),
    "add_label": Words(N_("The digit you drew"),
                       N_("Your digits are kept in your lab: test a model on them on Evaluate, "
                       "or teach it your handwriting on Train.")),
    "add": Words(N_("Add to my digits"), N_("Keep this digit, with its label, among your own digits.")),
}

# Classes (issue 24): the widgets of Start a class, Join, the board and the challenge.
CLASS_WORDS: dict[str, Words] = {
    "class_name": Words(N_("Name of the class"), N_("What your students see when they join, e.g. “Year 9 maths”.")),
    "class_code": Words(N_("Class code"), N_("The 6 letters and digits your teacher shows. Capitals or not, "
                                      "with or without a dash.")),
    "display_name": Words(N_("Your name in the class"),
                          N_("What your teacher and the leaderboard show: 1 to 30 characters, not used by anyone "
                          "else in the class. A first name or a nickname is enough.")),
    "challenge_dataset": Words(N_("The challenge's images (dataset)"),
                               N_("Runs trained on these images count in the challenge; the others do not.")),
    "challenge_max_params": Words(N_("Largest network allowed (parameters, 0 = any size)"),
                                  N_("A run whose network has more numbers to learn (parameters) than this does "
                                  "not count. 50,000 makes students think about small networks."), "neuron"),
    "board_students": Words(N_("Students to compare"), N_("Their best runs' curves, drawn together, one colour each.")),
    "board_student": Words(N_("Student"), N_("Their runs, read-only: you can look at them, not change them.")),
    "join": Words(N_("Join the class"),
                  N_("Your lab joins the class: your teacher sees the runs you make from now on.")),
    "start_class": Words(N_("Start a class"), N_("Makes a class code for your students and a private link to your "
                                          "class's board.")),
    "leave_class": Words(N_("Leave the class"), N_("Your teacher no longer sees your runs; they stay in your lab.")),
    "set_challenge": Words(N_("Set the challenge"),
                           N_("Students see its leaderboard on Train while the class is open.")),
    "end_challenge": Words(N_("End the challenge"), N_("The leaderboard goes away; the runs stay.")),
    "remove_student": Words(N_("Remove from class"), N_("Their lab and runs stay theirs; you no longer see them.")),
    "board_run": Words(N_("Run"), N_("One of this student's runs, made since they joined.")),
    "board_csv": Words(N_("Download the board (CSV)"), N_("The table above as a file for a spreadsheet.")),
    "evaluate_run": Words(N_("Evaluate it"), N_("Opens this run on Evaluate in this tab, read-only.")),
    "close_class": Words(N_("Close the class (no new joins)"),
                         N_("Students in the class stay; the code opens nothing new.")),
    "open_class": Words(N_("Open the class again"), N_("The code lets new students join again.")),
    "delete_class": Words(N_("Delete the class…"), N_("Deletes the class, its list of students and its challenge. The "
                                                "students' labs stay theirs.")),
    "leaderboard": Words(N_("Leaderboard"), N_("Each student's best run that keeps to the rule, ranked by its test "
                                        "accuracy, which the app measures itself on images no one trained on. "
                                        "Equal scores: whoever got there first."), "test set"),
}

# Evaluate's widgets and notes (pages/evaluate.py, ui/epochs_view.py): a label with "{...}" is filled in on the page.
EVALUATE_WORDS: dict[str, Words] = {
    "normalize": Words(N_("Show shares instead of counts (rates)"),
                       N_("Each row then adds up to 100%: handy when some digits have more test images than others.")),
    "truth": Words(N_("What the image really shows (truth)"),
                   N_("The digit the person wrote. Each row of the table is one of them.")),
    "predicted": Words(N_("What the network read (prediction)"),
                       N_("The network's answer. Each column of the table is one of them.")),
    "page": Words(N_("Page (of {pages})"), N_("The images come 24 at a time. Pick a page to see more.")),
    "look_closer": Words(N_("Look closer at"),
                         N_("Pick an image to see how sure the network was of each answer, and why.")),
    "inside_image": Words(N_("Image"),
                          N_("Look inside the network with a test image, or with your drawing from Draw.")),
    "test_image": Words(N_("Test image number (0 to {last})"), N_("Any of the test images, by its number.")),
    "history_epoch": Words(N_("Images after pass number (epoch)"),
                           N_("Move it to see which images were in this box after each pass through the data.")),
    "pair": Words(N_("{truth} read as {predicted} ({count}×)"),
                  N_("Opens this box of the table: the images it read this way, and why.")),
    "matrix_note": Words(N_("Counts of the {images} test images"),
                         N_("Test images were never used in training, so this is how it does on new digits.")),
    "history_note": Words(N_("Counts of the {images} validation images"),
                          N_("These are the images checked after every pass while it trained, not the test images, "
                          "so their numbers differ from Evaluate's table.")),
}


# The end of a training, the runs compared, and coming back (ui/outcome.py, ui/runs_view.py, ui/lab.py).
RESULTS_WORDS: dict[str, Words] = {
    "see_mistakes": Words(N_("See its mistakes"),
                          N_("Evaluate opens on the test images it got wrong, the pair it mixes up most first.")),
    "draw_for_it": Words(N_("Draw a digit for it"), N_("Draw your own digit and see what this network reads.")),
    "compare_it": Words(N_("Compare it"), N_("Opens the comparison with your other runs, under Your runs below.")),
    "lab_link": Words(N_("Your lab's link"),
                      N_("Keep it to come back to your runs, from any computer. "
                         "Anyone with the link can open your lab.")),
    "email_link": Words(N_("Email it to yourself"), N_("Opens your email program with the link in a new message.")),
    "remember_lab": Words(N_("Remember my lab on this computer"),
                          N_("Leave this off on a computer that others use too, such as in a classroom: "
                          "the next person to open the app here would be offered your lab.")),
    "continue_lab": Words(N_("Continue your lab"),
                          N_("This computer remembers a lab: open it to find your runs again.")),
    "current_model": Words(N_("Current model (used by Evaluate and Draw)"),
                           N_("The network that Evaluate tests and Draw reads with. Pick any of your runs.")),
    "download": Words(N_("Download"), N_("Saves this network as a Keras file (.keras) you can open in Python.")),
    "share": Words(N_("Share"), N_("A read-only link to this run: its curves, metrics and Evaluate views.")),
    "delete": Words(N_("Delete"), N_("Removes this run from your lab, after asking once more.")),
    "delete_run": Words(N_("Delete this run"), N_("Removes it for good.")),
    "delete_other": Words(N_("Run"), N_("The run to delete: one that is still training, or that failed.")),
    "compare_pick": Words(N_("Compare runs"),
                          N_("Pick the runs to show side by side: their test scores and their curves.")),
}

# The Train page's settings, by the key of core.model.settings.SETTINGS (its widget's key and link parameter).
SETTING_WORDS: dict[str, Words] = {
    "dataset": Words(N_("Images to learn from (dataset)"),
                     N_("Which set of pictures the network learns to read. Digits is small and quick; "
                     "MNIST is the classic set of handwritten digits."), "dataset"),
    "kind": Words(N_("Kind of network"),
                  N_("Dense layers look at every pixel at once. A small CNN looks for small shapes first, "
                  "which is usually better with pictures."), "convolution"),
    "filters": Words(N_("Shape finders in each block (conv filters)"),
                     N_("One number per block, like 32, 64. Each block looks for that many small shapes, "
                     "then shrinks the picture to half its size."), "convolution"),
    "kernel": Words(N_("Size of the window that looks for shapes (kernel size)"),
                    N_("How many pixels wide each shape finder looks. 3 is the usual choice."), "convolution"),
    "hidden": Words(N_("Neurons in each layer (hidden layers)"),
                    N_("One number per layer, like 512, 512. More neurons can learn more, but train slower. "
                    "Leave it empty for no layer in between."), "neuron"),
    "activation": Words(N_("How each neuron answers (activation)"),
                        N_("The rule that turns what a neuron adds up into its answer. ReLU usually learns fastest."),
                        "activation"),
    "dropout": Words(N_("Switch off neurons at random (dropout)"),
                     N_("Turns off this share of neurons at random while training, so the network cannot lean "
                     "on just a few. Try 0.2 when it does much better on its own images than on new ones."),
                     "dropout"),
    "l2": Words(N_("Keep the weights small (L2 penalty)"),
                N_("A small push that keeps every weight small. It can help the network do better on new images."),
                "weight"),
    "optimizer": Words(N_("How it learns from mistakes (optimizer)"),
                       N_("The rule it uses to change itself after each batch. Adam is a good first choice."),
                       "optimizer"),
    "lr": Words(N_("How big each step is (learning rate)"),
                N_("How much the network changes after each batch. Too big and it jumps around; "
                "too small and it learns slowly."), "learning rate"),
    "momentum": Words(N_("Keep going the same way (momentum)"),
                      N_("Each step also keeps some of the step before it, like a ball rolling downhill. "
                      "It often makes learning faster."), "momentum"),
    "batch": Words(N_("Images per step (batch size)"),
                   N_("How many images it looks at before it changes itself. Small batches learn in more steps; "
                   "big ones are quicker per pass."), "batch"),
    "epochs": Words(N_("Passes through the data (epochs)"),
                    N_("How many times it looks at all the training images. More passes can help, "
                    "until it starts to learn them by heart."), "epoch"),
    "patience": Words(N_("Stop when it stops getting better (early stopping)"),
                      N_("Stop after this many passes with no gain on the images kept aside, and keep the best "
                      "network. 0 means never stop early."), "early stopping"),
    "limit": Words(N_("How many training images to use (0 = all)"),
                   N_("Fewer images train faster, but the network learns less. 0 uses them all."), "dataset"),
    "seed": Words(N_("Dice roll (random seed)"),
                  N_("Training uses chance. The same number gives the same result again; "
                  "another number gives a slightly different one."), "random seed"),
}

# The classic recipes of the Train page, by the stable id that core.model.spec.PRESETS keys them with.
RECIPE_WORDS: dict[str, Words] = {
    "digits_tutorial": Words(N_("The first network of the classic tutorial: 64 pixels, 15 neurons, 10 answers"),
                             N_("A tiny network on the small 8x8 digits. It trains in seconds.")),
    "mnist_softmax": Words(N_("The simplest network: every pixel straight to 10 answers (MNIST)"),
                           N_("No layer in between. It already reads about 9 in 10 digits right.")),
    "mnist_dense": Words(N_("Two big layers of 512 neurons, with dropout (MNIST)"),
                         N_("A strong dense network. It reads about 98 in 100 digits right.")),
    "mnist_cnn": Words(N_("A small CNN that looks for shapes (MNIST)"),
                       N_("Two blocks of shape finders, then the answer. Often the best of these recipes.")),
}

# The Train page's other widgets, buttons and modes.
TRAIN_WORDS: dict[str, Words] = {
    "train_mode": Words(N_("What do you want to do?"),
                        N_("Train one network, compare a few that differ in one setting, "
                        "or teach a network your own handwriting.")),
    "mode_train": Words(N_("Train a network"), N_("Train one network and watch it learn.")),
    "mode_compare": Words(N_("Compare (a sweep)"),
                          N_("Train a few networks that differ in one setting, side by side.")),
    "mode_fine_tune": Words(N_("Fine-tune on my digits"),
                            N_("Teach a network your own handwriting, from the digits you drew.")),
    "preset": Words(N_("Start from a classic recipe"),
                    N_("Choosing one fills in every setting below at once. Undo brings back your own.")),
    "undo_recipe": Words(N_("Undo"), N_("Brings back the settings you had before you chose the recipe.")),
    "start_training": Words(N_("Start training"), N_("Trains a network with the settings on the left.")),
    "stop_training": Words(N_("Stop training"), N_("Stops now and keeps the network as it is so far.")),
    "sweep_setting": Words(N_("Setting to change"), N_("The one setting that differs between the networks.")),
    "sweep_values": Words(N_("Values to compare"),
                          N_("One network is trained for each value. Lists of numbers, like 128, 64, "
                          "are separated by ';'.")),
    "start_sweep": Words(N_("Start sweep"),
                         N_("Trains one network for each value, with every other setting the same.")),
    "stop_sweep": Words(N_("Stop sweep"),
                        N_("Stops every network: waiting ones never start, running ones keep what they learned.")),
    "sweep_member": Words(N_("Network to use as the current model"),
                          N_("Evaluate and Draw use the current model.")),
    "make_current": Words(N_("Make it current"), N_("Evaluate and Draw will use this network.")),
    "is_current": Words(N_("Current model"), N_("Evaluate and Draw use this network.")),
}

# The fine-tuning part of the Train page and the My digits page.
MY_DIGITS_WORDS: dict[str, Words] = {
    "fine_tune_model": Words(N_("Network to fine-tune"),
                             N_("A copy of it learns your handwriting; it stays as it is.")),
    "fine_tune": Words(N_("Fine-tune on my digits"),
                       N_("A copy of the network learns from your digits, with some of its old images mixed in "
                       "so that it does not forget them.")),
    "digits_upload": Words(N_("Choose a file of digits (.npz)"),
                           N_("A file you downloaded from this page, or MNIST's own mnist.npz. "
                           "Each image is a white digit on black, with its right answer.")),
    "digits_shown": Words(N_("Digit"), N_("Which of your digits to look at.")),
    "digits_model_view": Words(N_("Show them as the network sees them"),
                               N_("Off: your drawing as kept. On: the small 28x28 picture a network reads, "
                               "made as on the Draw page.")),
    "digits_page": Words(N_("Page"), N_("Your digits, a page at a time, newest first.")),
    "digits_pick": Words(N_("Delete"), N_("Tick the digits to delete, then press the button below them.")),
    "digits_delete_ticked": Words(N_("Delete the ticked digits"), N_("Deletes the digits you ticked, for good.")),
    "digits_download": Words(N_("Download as .npz"),
                             N_("A file with all your digits and their answers. You can add it here again, "
                             "or read it in Python with numpy.load.")),
    "digits_delete_all": Words(N_("Delete all my digits"), N_("Deletes every digit you added, for good.")),
}

# The code of a run (ui/code_view.py): its files, and the model in other formats ("{format}" is filled in).
CODE_WORDS: dict[str, Words] = {
    "code_script": Words(N_("Script (.py)"), N_("The Python code that trains this network again, "
                                                "with the same settings. Run it with Python and Keras.")),
    "code_notebook": Words(N_("Notebook (.ipynb)"), N_("The same code as a notebook, to open in Jupyter or "
                                                       "Google Colab and run step by step.")),
    "code_card": Words(N_("Model card (.md)"), N_("A short page about this network: its data, its settings, "
                                                  "its scores and what it gets wrong.")),
    "code_make": Words(N_("Make {format}"), N_("Build the trained network in this format, to use it in another "
                                               "program. It takes a few seconds.")),
}

# Every entry above, by key: what `words_for` reads and the widget-walking test checks against.
WORDS: dict[str, Words] = {**SETTING_WORDS, **{f"recipe_{k}": w for k, w in RECIPE_WORDS.items()},
                           **TRAIN_WORDS, **MY_DIGITS_WORDS, **METRIC_WORDS, **DRAW_WORDS, **CLASS_WORDS,
                           **EVALUATE_WORDS, **RESULTS_WORDS, **CODE_WORDS}


def words_for(key: str) -> Words:
    """The words of one key of WORDS (a setting, a widget, a metric); KeyError names the key."""
    try:
        return WORDS[key]
    except KeyError:
        raise KeyError(f"no words for {key!r}: add them to a table in core.words") from None
