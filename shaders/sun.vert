#version 330
// The Sun: a square facing the camera (the camera is at the scene origin, the node's +y points
// along the Sun direction), corners at +-1 in texcoord; the quad's half-width is
// sun_params.y (the tangent of its angular half-width) times the node's distance, so texcoord x tan(extent) is the tangent of the
// angle from the Sun's centre.

uniform mat4 p3d_ModelViewProjectionMatrix;
in vec4 p3d_Vertex;
in vec2 p3d_MultiTexCoord0;
out vec2 v_uv;

void main() {
    vec4 clip = p3d_ModelViewProjectionMatrix * p3d_Vertex;
    clip.z = clip.w * 0.999998;  // on the far plane, whatever the lens's near/far
    gl_Position = clip;
    v_uv = p3d_MultiTexCoord0;
}
