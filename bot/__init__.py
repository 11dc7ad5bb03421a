"""The faces: one package per chat platform, plus the web dashboard and a terminal console."""
