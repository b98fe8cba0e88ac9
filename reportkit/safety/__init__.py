"""What keeps contributors' input harmless and every run bounded: the narrative
policy, the bounded sandbox, images, the render budget, worker processes."""
