#version 330
// Stars: the core pixel carries the star's flux; the ring of a 3 px point carries a halo that grows
// with the flux above saturation (edge pixels x1, corner pixels x0.4), so bright stars read as
// small round spots and faint ones as single pixels.

uniform vec4 sky_output;      // x: exposure, y: display gamma (0: linear HDR output), z: radiance scale (linear output only)

// linear (white card facing the Sun = 1) -> what goes into the frame buffer
// (display: over-exposed colours bleach toward white, as on film, instead of losing luminance)
vec3 sky_encode(vec3 lin) {
    if (sky_output.y > 0.0) {
        vec3 x = max(lin * sky_output.x, vec3(0.0));
        x += max(max(x.r, max(x.g, x.b)) - 1.0, 0.0);
        return pow(min(x, vec3(1.0)), vec3(1.0 / sky_output.y));
    }
    return lin * (sky_output.x * sky_output.z);
}

in vec3 v_rgb;
in float v_flux;
in float v_halo;
flat in float v_size;
out vec4 frag_color;

void main() {
    float b = v_flux;
    if (v_size > 1.5) {
        // offset of this pixel's centre from the star, in pixels; the one pixel whose centre lies
        // within half a pixel (half-open, so exactly one) is the core, wherever the star falls
        vec2 d = (gl_PointCoord - vec2(0.5)) * v_size;
        bool core = all(greaterThan(d, vec2(-0.5))) && all(lessThanEqual(d, vec2(0.5)));
        if (!core) {
            b = v_halo * exp(-2.2 * (length(d) - 1.0));
        }
    }
    frag_color = vec4(sky_encode(v_rgb * b), 1.0);
}
