"""QueueLab's Qt views: they read engine.model.RunModel and drive engine.runner.Run."""
