"""Collecting people's rationales: the word-picking widget and the file it writes."""
