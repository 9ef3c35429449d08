"""QueueLab's data files (presets/, icons/, styles/): a package for importlib.resources to find."""
