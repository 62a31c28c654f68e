"""ipywidgets views for the magics: the live metric plot and the runs table."""
