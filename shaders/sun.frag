#version 330
// The Sun: a limb-darkened disc of the true apparent radius (radiance ~46,000 x a white card
// facing the Sun, i.e. pi / solid angle) and a soft glare (a lens/eye point-spread halo falling
// off as ~r^-2.4 outside the disc, with an exponential cut-off of its wings), added onto what is
// behind (additive blending). The glare stays below saturation at the limb, so the saturated disc
// keeps the Sun's true apparent size.

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
uniform vec4 sun_params;    // x: angular radius (rad), y: tan(half-width of this quad)
uniform vec4 sun_gain;      // x: disc radiance, y: glare gain, z: glare core (solar radii), w: glare e-folding angle (rad)
uniform vec3 sun_color;     // linear colour of the glare (the disc saturates to white)
in vec2 v_uv;
out vec4 frag_color;

void main() {
    float rq = length(v_uv);                           // 0 at the centre, 1 at the quad's edge
    float theta = atan(rq * sun_params.y);             // angle from the Sun's centre (rad)
    float r = theta / sun_params.x;                    // in solar radii
    float aa = max(fwidth(r), 1e-4);
    float inside = 1.0 - smoothstep(1.0 - aa, 1.0 + aa, r);
    float mu = sqrt(max(1.0 - r * r, 0.0));
    float limb = 1.0 - 0.6 * (1.0 - mu);               // linear limb darkening, u = 0.6
    vec3 disc = vec3(sun_gain.x * inside * limb);
    float rc = r / sun_gain.z;
    float glare = sun_gain.y * pow(1.0 + rc * rc, -1.2);
    glare *= exp(-theta / sun_gain.w);                 // wide wings die off exponentially
    glare *= 1.0 - smoothstep(0.55, 1.0, rq);          // and fade out before the quad's edge
    frag_color = vec4(sky_encode(disc + glare * sun_color), 1.0);
}
