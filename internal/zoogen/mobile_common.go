package zoogen

// Helpers shared by the mobile families (MobileNetV3, MNASNet,
// ShuffleNetV2, EfficientNet and the MobileNetV3 segmentation models).

// mobileConvOut is PyTorch's output size of a convolution or pooling window.
func mobileConvOut(in, kernel, stride, padding, dilation int) int {
	return (in+2*padding-dilation*(kernel-1)-1)/stride + 1
}
