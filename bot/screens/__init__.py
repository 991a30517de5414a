"""Screens: the text and keyboard of a message, built by one function that the handlers, the
dispatcher and (later) the web app all call. Pure rendering from loaded data, no I/O beyond
the reads a screen names."""
