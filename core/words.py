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
    "batch": "A small group of images the network looks at before it changes itself a little. "
             "A training pass goes through all the images, one batch after another.",
    "convolution": "A small window that slides over the picture and looks for one pattern, such as an edge "
                   "or a curve, everywhere in it. A CNN is built from such windows.",
    "dropout": "While training, some neurons are switched off at random, so the network cannot rely on "
               "any single one. It often helps it do better on new images.",
    "epoch": "One pass through all the training images. Training usually takes several passes.",
    "learning rate": "How big a step the network takes each time it changes itself. Too big and it jumps "
                     "around, too small and it learns slowly.",
    "loss": "A number that says how wrong the network is. Training tries to make it smaller.",
    "neuron": "A tiny unit that adds up what comes in, each part with its own weight, and passes on a number.",
    "optimizer": "The rule that decides how the network changes itself after each batch. "
                 "SGD, Adam and RMSprop are optimizers.",
    "overfitting": "When the network learns its training images by heart instead of what digits look like: "
                   "it gets better on them and worse on new ones.",
    "softmax": "The last step of the network: it turns its scores into chances for each answer that add up to 100%.",
    "test set": "Images kept apart until the end, never used in training. The score on them is the fairest one.",
    "validation": "Images kept aside during training to check, after each pass, how well the network does "
                  "on images it did not learn from.",
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
