"""Model runtimes, assets and the MediaPipe-family pose, hand and face models."""
