"""Workers: QObjects moved to QThreads that own I/O (audio, websocket, the local engine).
They never touch widgets; they report through signals."""
