// The seed document's example layout (T=16, H=32, W=32, d_model=768), shared by the canvas tests.
import { CanvasLayout, regionSpec } from "../../../app/core/canvas/index";

export function seedLayout(): CanvasLayout {
  return new CanvasLayout({
    T: 16,
    H: 32,
    W: 32,
    d_model: 768,
    regions: {
      screen: [0, 16, 0, 24, 0, 24],
      mouse: regionSpec([0, 16, 24, 26, 0, 4], { loss_weight: 2.0 }),
      thought: regionSpec([0, 4, 28, 32, 0, 8], { period: 4 }),
      prompt: regionSpec([0, 1, 26, 28, 0, 4], { is_output: false }),
    },
  });
}
