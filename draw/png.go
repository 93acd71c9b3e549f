package draw

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// maxPNGSide bounds a PNG's side in pixels (the picture is at most about
// rfMaxPx plus its text, so this only guards the arithmetic).
const maxPNGSide = 8192

// RFPNG draws the field (placeRF) as a PNG: the same rectangles, and the
// texts in a 7x13 bitmap font (Go's basicfont), ASCII only.
func RFPNG(out io.Writer, f *Field, title string) error {
	pic, err := placeRF(f, title)
	if err != nil {
		return err
	}
	w, h := int(math.Ceil(pic.W)), int(math.Ceil(pic.H))
	if w > maxPNGSide || h > maxPNGSide {
		return fmt.Errorf("the picture would be %dx%d pixels, above %d", w, h, maxPNGSide)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fillRect(img, Rect{0, 0, float64(w), float64(h)}, color.RGBA{255, 255, 255, 255})
	for _, sh := range pic.Shapes {
		if sh.Fill != "" {
			fillRect(img, sh.R, hexColor(sh.Fill))
		}
		if sh.Stroke != "" {
			strokeRect(img, sh.R, hexColor(sh.Stroke), sh.Width, dashes(sh.Dash))
		}
	}
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{17, 17, 17, 255}), Face: basicfont.Face7x13}
	for _, t := range pic.Texts {
		d.Dot = fixed.P(int(t.X), int(t.Y+lineH*0.8))
		d.DrawString(t.S)
	}
	return png.Encode(out, img)
}

func hexColor(s string) color.RGBA {
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil || len(s) != 7 {
		return color.RGBA{0, 0, 0, 255}
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
}

// fillRect fills the pixels whose centres lie in r.
func fillRect(img *image.RGBA, r Rect, c color.RGBA) {
	b := img.Bounds()
	x0, x1 := max(b.Min.X, int(math.Round(r.X))), min(b.Max.X, int(math.Round(r.X+r.W)))
	y0, y1 := max(b.Min.Y, int(math.Round(r.Y))), min(b.Max.Y, int(math.Round(r.Y+r.H)))
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

// dashes reads an SVG dash array of two lengths ("5,3"); nil for solid.
func dashes(s string) []float64 {
	var on, off float64
	if _, err := fmt.Sscanf(s, "%g,%g", &on, &off); err != nil || on <= 0 || off < 0 {
		return nil
	}
	return []float64{on, off}
}

// strokeRect outlines r with lines of the given width, dashed by pattern.
func strokeRect(img *image.RGBA, r Rect, c color.RGBA, width float64, pattern []float64) {
	wd := max(1, width)
	line := func(x0, y0, x1, y1 float64) {
		length := math.Hypot(x1-x0, y1-y0)
		for s := 0.0; s <= length; s += 0.5 {
			if pattern != nil && math.Mod(s, pattern[0]+pattern[1]) >= pattern[0] {
				continue
			}
			t := s / max(length, 1e-9)
			x, y := x0+(x1-x0)*t, y0+(y1-y0)*t
			fillRect(img, Rect{x - wd/2, y - wd/2, wd, wd}, c)
		}
	}
	line(r.X, r.Y, r.X+r.W, r.Y)
	line(r.X+r.W, r.Y, r.X+r.W, r.Y+r.H)
	line(r.X+r.W, r.Y+r.H, r.X, r.Y+r.H)
	line(r.X, r.Y+r.H, r.X, r.Y)
}
