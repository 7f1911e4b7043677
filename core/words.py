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


# The lessons' terms (lessons/*.toml name them; the Learn page's glossary lists them all). Added to
# GLOSSARY below; a term already defined above keeps its words.
LESSON_TERMS: dict[str, str] = {
    "CNN": "A network made of convolutions: small windows that look for the same pattern everywhere in a picture "
           "(convolutional neural network).",
    "confusion matrix": "A square of numbers: each row is the true digit, each column what the network read. "
                        "The numbers off the diagonal are its mistakes.",
    "early stopping": "Training stops by itself when the score on the validation images has not improved "
                      "for a few passes, and keeps the best network it saw.",
    "feature map": "What one filter of a CNN finds in a picture: a small image that is bright where "
                   "its pattern is.",
    "filter": "One small window of a CNN, with its own weights: it lights up where its pattern, "
              "such as an edge, is in the picture.",
    "fine-tuning": "Training a network that has already learned a bit more, on new pictures (yours), "
                   "so that it gets better at them.",
    "hidden layer": "A row of neurons between the picture and the answer. Each can learn a part of a digit, "
                    "like a loop or a line.",
    "sweep": "A comparison: the same network trained a few times, with only one setting changed, "
             "so you can see what that setting does.",
    "weight": "A number inside the network that says how much one input counts. Training changes the weights.",
}
for _term, _meaning in LESSON_TERMS.items():
    GLOSSARY.setdefault(_term, _meaning)
# The Draw page's widgets (pages/draw.py, ui/drawing_box.py, ui/my_digits.py's "Add to my digits"), by their role.
DRAW_WORDS: dict[str, Words] = {
    "source": Words("How to give the network a digit",
                    "Draw one with the mouse or a finger, send a photo of one written on paper, or pick one "
                    "from the test images if drawing is hard for you."),
    "clear": Words("Clear", "Empty the box to draw another digit."),
    "explain_class": Words("Class to explain",
                           "Choose another digit to see what counts for it and against it: what would make it a 7?"),
    "inside": Words("See inside the network",
                    "See what the first layer looks for, and what each part of the network makes of your digit."),
    "photo_upload": Words("A photo of one digit on paper",
                          "Write one digit large and dark on plain paper and take a photo from above. "
                          "PNG or JPEG pictures are read."),
    "camera": Words("Use the camera", "Take the photo here with your device's camera. Your browser asks first."),
    "camera_input": Words("Take a photo of one digit on paper",
                          "Hold the paper flat, fill much of the picture with the digit, and avoid strong shadows."),
    "test_digit": Words("The digit to show",
                        "The network reads one of its test images of this digit: images it never learned from."),
    "another": Words("Another one", "Show another test image of the same digit."),
    "add_label": Words("The digit you drew",
                       "Your digits are kept in your lab: test a model on them on Evaluate, "
                       "or teach it your handwriting on Train."),
    "add": Words("Add to my digits", "Keep this digit, with its label, among your own digits."),
}

# Classes (issue 24): the widgets of Start a class, Join, the board and the challenge.
CLASS_WORDS: dict[str, Words] = {
    "class_name": Words("Name of the class", "What your students see when they join, e.g. “Year 9 maths”."),
    "class_code": Words("Class code", "The 6 letters and digits your teacher shows. Capitals or not, "
                                      "with or without a dash."),
    "display_name": Words("Your name in the class",
                          "What your teacher and the leaderboard show: 1 to 30 characters, not used by anyone "
                          "else in the class. A first name or a nickname is enough."),
    "challenge_dataset": Words("The challenge's images (dataset)",
                               "Runs trained on these images count in the challenge; the others do not."),
    "challenge_max_params": Words("Largest network allowed (parameters, 0 = any size)",
                                  "A run whose network has more numbers to learn (parameters) than this does "
                                  "not count. 50,000 makes students think about small networks.", "neuron"),
    "board_students": Words("Students to compare", "Their best runs' curves, drawn together, one colour each."),
    "board_student": Words("Student", "Their runs, read-only: you can look at them, not change them."),
    "join": Words("Join the class", "Your lab joins the class: your teacher sees the runs you make from now on."),
    "start_class": Words("Start a class", "Makes a class code for your students and a private link to your "
                                          "class's board."),
    "leave_class": Words("Leave the class", "Your teacher no longer sees your runs; they stay in your lab."),
    "set_challenge": Words("Set the challenge", "Students see its leaderboard on Train while the class is open."),
    "end_challenge": Words("End the challenge", "The leaderboard goes away; the runs stay."),
    "remove_student": Words("Remove from class", "Their lab and runs stay theirs; you no longer see them."),
    "board_run": Words("Run", "One of this student's runs, made since they joined."),
    "board_csv": Words("Download the board (CSV)", "The table above as a file for a spreadsheet."),
    "evaluate_run": Words("Evaluate it", "Opens this run on Evaluate in this tab, read-only."),
    "close_class": Words("Close the class (no new joins)", "Students in the class stay; the code opens nothing new."),
    "open_class": Words("Open the class again", "The code lets new students join again."),
    "delete_class": Words("Delete the class…", "Deletes the class, its list of students and its challenge. The "
                                                "students' labs stay theirs."),
    "leaderboard": Words("Leaderboard", "Each student's best run that keeps to the rule, ranked by its test "
                                        "accuracy, which the app measures itself on images no one trained on. "
                                        "Equal scores: whoever got there first.", "test set"),
}

# Evaluate's widgets and notes (pages/evaluate.py, ui/epochs_view.py): a label with "{...}" is filled in on the page.
EVALUATE_WORDS: dict[str, Words] = {
    "normalize": Words("Show shares instead of counts (rates)",
                       "Each row then adds up to 100%: handy when some digits have more test images than others."),
    "truth": Words("What the image really shows (truth)",
                   "The digit the person wrote. Each row of the table is one of them."),
    "predicted": Words("What the network read (prediction)",
                       "The network's answer. Each column of the table is one of them."),
    "page": Words("Page (of {pages})", "The images come 24 at a time. Pick a page to see more."),
    "look_closer": Words("Look closer at", "Pick an image to see how sure the network was of each answer, and why."),
    "inside_image": Words("Image", "Look inside the network with a test image, or with your drawing from Draw."),
    "test_image": Words("Test image number (0 to {last})", "Any of the test images, by its number."),
    "history_epoch": Words("Images after pass number (epoch)",
                           "Move it to see which images were in this box after each pass through the data."),
    "pair": Words("{truth} read as {predicted} ({count}×)",
                  "Opens this box of the table: the images it read this way, and why."),
    "matrix_note": Words("Counts of the {images} test images",
                         "Test images were never used in training, so this is how it does on new digits."),
    "history_note": Words("Counts of the {images} validation images",
                          "These are the images checked after every pass while it trained, not the test images, "
                          "so their numbers differ from Evaluate's table."),
}


# The end of a training, the runs compared, and coming back (ui/outcome.py, ui/runs_view.py, ui/lab.py).
RESULTS_WORDS: dict[str, Words] = {
    "see_mistakes": Words("See its mistakes",
                          "Evaluate opens on the test images it got wrong, the pair it mixes up most first."),
    "draw_for_it": Words("Draw a digit for it", "Draw your own digit and see what this network reads."),
    "compare_it": Words("Compare it", "Opens the comparison with your other runs, under Your runs below."),
    "lab_link": Words("Your lab's link",
                      "Keep it to come back to your runs, from any computer. Anyone with the link can open your lab."),
    "email_link": Words("Email it to yourself", "Opens your email program with the link in a new message."),
    "remember_lab": Words("Remember my lab on this computer",
                          "Leave this off on a computer that others use too, such as in a classroom: "
                          "the next person to open the app here would be offered your lab."),
    "continue_lab": Words("Continue your lab",
                          "This computer remembers a lab: open it to find your runs again."),
    "current_model": Words("Current model (used by Evaluate and Draw)",
                           "The network that Evaluate tests and Draw reads with. Pick any of your runs."),
    "download": Words("Download", "Saves this network as a Keras file (.keras) you can open in Python."),
    "share": Words("Share", "A read-only link to this run: its curves, metrics and Evaluate views."),
    "delete": Words("Delete", "Removes this run from your lab, after asking once more."),
    "delete_run": Words("Delete this run", "Removes it for good."),
    "delete_other": Words("Run", "The run to delete: one that is still training, or that failed."),
    "compare_pick": Words("Compare runs", "Pick the runs to show side by side: their test scores and their curves."),
}

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
                           **TRAIN_WORDS, **MY_DIGITS_WORDS, **METRIC_WORDS, **DRAW_WORDS, **CLASS_WORDS,
                           **EVALUATE_WORDS, **RESULTS_WORDS}


def words_for(key: str) -> Words:
    """The words of one key of WORDS (a setting, a widget, a metric); KeyError names the key."""
    try:
        return WORDS[key]
    except KeyError:
        raise KeyError(f"no words for {key!r}: add them to a table in core.words") from None
