//! Subscribers of run events that show a run to people and programs.
