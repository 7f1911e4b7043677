"""Each run as code and files to take away: a script and a notebook that reproduce it, the model in the
formats people deploy, and its model card. No Streamlit here."""
